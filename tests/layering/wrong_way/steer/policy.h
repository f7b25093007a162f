// A steer header that includes health: the layering check must reject it.
#pragma once
#include "common/result.h"
#include "health/prober.h"
