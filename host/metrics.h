/* /metrics in Prometheus' text format: node states, every gauge per node, snowd's counters. */
#ifndef SNOW_METRICS_H
#define SNOW_METRICS_H

#include "buf.h"
#include "snowd.h"

/* Render into b.  @ret 0 or -errno. */
int metrics_render(struct snowd *sd, struct buf *b);

#endif
