/*
 * The REST API's handlers (docs/api.md).  route.c declares which route runs
 * which handler and who may call it; a handler finds the route's {x}
 * segments in h->param[] and the caller in h->who, already checked.
 * api.c: nodes, commands, events, stream, metrics; api_admin.c: sessions,
 * users, tokens, profiles, images.
 */
#ifndef SNOW_API_H
#define SNOW_API_H

#include "http.h"

enum MHD_Result api_health(struct http_ctx *h);
enum MHD_Result api_stream(struct http_ctx *h);
enum MHD_Result api_metrics(struct http_ctx *h);
enum MHD_Result api_nodes_list(struct http_ctx *h);
enum MHD_Result api_nodes_add(struct http_ctx *h);
enum MHD_Result api_node_get(struct http_ctx *h);
enum MHD_Result api_node_patch(struct http_ctx *h);
enum MHD_Result api_node_delete(struct http_ctx *h);
/* POST /api/v1/nodes/{node}/rekey: a new secret (inv_node_rekey) -> {rekeyed, delivery} */
enum MHD_Result api_node_rekey(struct http_ctx *h);
enum MHD_Result api_node_commands(struct http_ctx *h);
enum MHD_Result api_node_command(struct http_ctx *h);
enum MHD_Result api_node_history(struct http_ctx *h);
enum MHD_Result api_node_console(struct http_ctx *h);
enum MHD_Result api_node_boots(struct http_ctx *h);
enum MHD_Result api_command_get(struct http_ctx *h);
/* POST /api/v1/commands {nodes: [NAME...], op, args}: one command for many nodes (api_cmd.c) */
enum MHD_Result api_commands_bulk(struct http_ctx *h);
enum MHD_Result api_events(struct http_ctx *h);
enum MHD_Result api_discovered(struct http_ctx *h);

enum MHD_Result api_login(struct http_ctx *h);
enum MHD_Result api_logout(struct http_ctx *h);
enum MHD_Result api_me(struct http_ctx *h);
enum MHD_Result api_images_list(struct http_ctx *h);
enum MHD_Result api_images_add(struct http_ctx *h);
enum MHD_Result api_image_delete(struct http_ctx *h);
enum MHD_Result api_profiles_list(struct http_ctx *h);
enum MHD_Result api_profile_get(struct http_ctx *h);
enum MHD_Result api_profile_put(struct http_ctx *h);
enum MHD_Result api_profile_delete(struct http_ctx *h);
enum MHD_Result api_users_list(struct http_ctx *h);
enum MHD_Result api_user_add(struct http_ctx *h);
enum MHD_Result api_user_delete(struct http_ctx *h);
enum MHD_Result api_tokens_list(struct http_ctx *h);
enum MHD_Result api_token_add(struct http_ctx *h);
enum MHD_Result api_token_delete(struct http_ctx *h);

#endif
