// Everything in tapegrad::optim.
#pragma once
#include "tapegrad/optim/adadelta.h"
#include "tapegrad/optim/adagrad.h"
#include "tapegrad/optim/adam.h"
#include "tapegrad/optim/adamax.h"
#include "tapegrad/optim/adamw.h"
#include "tapegrad/optim/clip.h"
#include "tapegrad/optim/nadam.h"
#include "tapegrad/optim/optimizer.h"
#include "tapegrad/optim/rmsprop.h"
#include "tapegrad/optim/schedulers.h"
#include "tapegrad/optim/sgd.h"
