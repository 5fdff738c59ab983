/*
 * Which nodes snow-nodesim simulates: with --add, PREFIX0001..N (created
 * through the admin API by their first step unless snowd lists them);
 * otherwise every node snowd lists with the prefix, by name, up to --count.
 */
#ifndef SNOW_NODESIM_SETUP_H
#define SNOW_NODESIM_SETUP_H

#include <stddef.h>

#include "nodesim.h"

/*
 * Read snowd's node list (blocking) and fill ns->nodes, ns->heap and
 * ns->fifo (ns_free() releases them, also after an error).  @ret 0,
 * -EIO (snowd's list could not be read), -ENOMEM, or -EINVAL, with err filled.
 */
int ns_setup_nodes(struct nodesim *ns, char *err, size_t errlen);

#endif
