// The umbrella header: everything a training script needs, in one include.
#pragma once
#include "tapegrad/config.h"
#include "tapegrad/core/archive.h"
#include "tapegrad/core/autograd.h"
#include "tapegrad/core/conv.h"
#include "tapegrad/core/dtype.h"
#include "tapegrad/core/errors.h"
#include "tapegrad/core/function.h"
#include "tapegrad/core/gradcheck.h"
#include "tapegrad/core/memory.h"
#include "tapegrad/core/norm.h"
#include "tapegrad/core/ops.h"
#include "tapegrad/core/parallel.h"
#include "tapegrad/core/pool.h"
#include "tapegrad/core/random.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/data/data.h"
#include "tapegrad/nn/nn.h"
#include "tapegrad/optim/optim.h"
#include "tapegrad/train/train.h"
#if TAPEGRAD_HAS_DIST
#include "tapegrad/dist/dist.h"
#endif
