/* The web console's files: plain names below --web-dir, with a type by extension. */
#include "web.h"

#include <stdio.h>
#include <string.h>

#include "snowd.h"

static const char *web_mime(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".woff2", "font/woff2" }, { ".map", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

enum MHD_Result web_file(struct http_ctx *h)
{
	const char *rel = strcmp(h->url, "/") ? h->url + 1 : "index.html";
	char path[8192];

	/* Only plain names below the web folder: no "..", no hidden files. */
	if (strstr(rel, "..") || strstr(rel, "/.") || rel[0] == '.' || strchr(rel, '\\') ||
	    strlen(rel) > 512)
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	snprintf(path, sizeof(path), "%s/%s", h->sd->cfg.web_dir, rel);
	return http_file(h, path, web_mime(path), 1);
}
