// Everything in tapegrad::dist, the distributed target (built when MPI is found;
// tapegrad/config.h says whether).
#pragma once
#include "tapegrad/distributed/collectives.h"
#include "tapegrad/distributed/context.h"
#include "tapegrad/distributed/ddp.h"
#include "tapegrad/distributed/local_sgd.h"
#include "tapegrad/distributed/parameter_server.h"
#include "tapegrad/distributed/zero.h"
