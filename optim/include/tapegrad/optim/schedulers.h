// Every learning-rate schedule, with PyTorch's semantics (torch.optim.lr_scheduler, 1.13), one
// header per family.
#pragma once
#include "tapegrad/optim/composed.h"
#include "tapegrad/optim/cosine.h"
#include "tapegrad/optim/cyclic.h"
#include "tapegrad/optim/decay.h"
#include "tapegrad/optim/lambda_lr.h"
#include "tapegrad/optim/lr_scheduler.h"
#include "tapegrad/optim/plateau.h"
#include "tapegrad/optim/warmup.h"
