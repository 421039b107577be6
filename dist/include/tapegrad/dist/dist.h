// Everything in tapegrad::dist (built when MPI is found; tapegrad/config.h says whether).
#pragma once
#include "tapegrad/dist/collectives.h"
#include "tapegrad/dist/context.h"
#include "tapegrad/dist/ddp.h"
