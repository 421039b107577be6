// Everything in tapegrad::train: what a training script needs around its loop.
#pragma once
#include "tapegrad/train/callback.h"
#include "tapegrad/train/checkpoint.h"
#include "tapegrad/train/checkpointer.h"
#include "tapegrad/train/early_stopping.h"
#include "tapegrad/train/evaluate.h"
#include "tapegrad/train/fit.h"
#include "tapegrad/train/metrics_log.h"
#include "tapegrad/train/plot.h"
#include "tapegrad/train/printer.h"
#include "tapegrad/train/progress.h"
#include "tapegrad/train/record.h"
#include "tapegrad/train/schedule_step.h"
