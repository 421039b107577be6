// Everything in tapegrad::data.
#pragma once
#include "tapegrad/data/csv.h"
#include "tapegrad/data/dataloader.h"
#include "tapegrad/data/dataset.h"
#include "tapegrad/data/idx.h"
#include "tapegrad/data/mnist.h"
