/*
 * The boot routes iPXE fetches (route.c serves them on the boot address
 * only): the first-stage script, each node's script and overlay, image files.
 * Each fetch from a node's address is one of its boot stages (nodes.h).
 */
#ifndef SNOW_BOOTSRV_H
#define SNOW_BOOTSRV_H

#include "http.h"

/* GET /boot/first.ipxe */
enum MHD_Result bootsrv_first(struct http_ctx *h);
/* GET /boot/{mac}.ipxe: the node's script; an unknown MAC is listed as discovered. */
enum MHD_Result bootsrv_script(struct http_ctx *h);
/* GET /boot/{mac}/overlay.cpio: to the node's own address only (it holds its secret). */
enum MHD_Result bootsrv_overlay(struct http_ctx *h);
/* GET /boot/images/{ref}/{file} */
enum MHD_Result bootsrv_image(struct http_ctx *h);

#endif
