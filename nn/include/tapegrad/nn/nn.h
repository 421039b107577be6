// Everything in tapegrad::nn.
#pragma once
#include "tapegrad/nn/activation.h"
#include "tapegrad/nn/containers.h"
#include "tapegrad/nn/dropout.h"
#include "tapegrad/nn/flatten.h"
#include "tapegrad/nn/functional.h"
#include "tapegrad/nn/init.h"
#include "tapegrad/nn/linear.h"
#include "tapegrad/nn/loss.h"
#include "tapegrad/nn/module.h"
#include "tapegrad/nn/serialize.h"
