/* The web console's files (console/web/), served from --web-dir. */
#ifndef SNOW_WEB_H
#define SNOW_WEB_H

#include "http.h"

/* GET / and any path no other route takes: a file of the console, or 404. */
enum MHD_Result web_file(struct http_ctx *h);

#endif
