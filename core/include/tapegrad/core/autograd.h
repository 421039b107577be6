// Automatic differentiation beyond Tensor::backward(): grad mode and the tape's views, grad() and
// backward() of several outputs, hooks, anomaly mode, custom functions and gradcheck.
#pragma once
#include "tapegrad/core/autograd/anomaly.h"
#include "tapegrad/core/autograd/function.h"
#include "tapegrad/core/autograd/functional.h"
#include "tapegrad/core/autograd/grad.h"
#include "tapegrad/core/autograd/gradcheck.h"
#include "tapegrad/core/autograd/hooks.h"
#include "tapegrad/core/autograd/tape.h"
#include "tapegrad/core/runtime/memory.h"
