/*
 * Node settings and their inheritance.  A node has its own settings and may
 * name a profile; each setting it does not set comes from the profile, else
 * from snowd's defaults.  The keys (one place checks them all):
 *
 *   image        image name                       ("default")
 *   cmdline      extra kernel arguments           ("")
 *   env          {NAME: "value"} for the node's environment (ChorusOS ENV)
 *   thresholds   [{value, kind, rise, clear, samples?}] the node starts with
 *   interval_ms  report interval                  (snowd's --interval-ms)
 *   power        {driver: agent|qmp|ipmi, ...}     ({driver: agent})
 *                qmp: {socket: PATH};  ipmi: {host, user, password_file, interface?}
 *   groups       ["name", ...]                    ([])
 *   console_log  path of the file that captures the node's serial console
 *                (served by GET /api/v1/nodes/NAME/console; unset: none)
 */
#ifndef SNOW_SETTINGS_H
#define SNOW_SETTINGS_H

#include <jansson.h>
#include <stddef.h>

/*
 * Check an object of settings (a value of null means "unset", allowed when
 * allow_null).  @ret 0 or -EINVAL with err naming the key ("env.PATH: ...").
 */
int settings_check(json_t *settings, int allow_null, char *err, size_t errlen);

/*
 * The effective settings: {key: value} from node, else profile (may be NULL),
 * else defaults (all borrowed).  When origins is not NULL it receives
 * {key: "node"|"profile NAME"|"default"}.  @ret a new object, or NULL.
 */
json_t *settings_effective(json_t *node, const char *profile_name, json_t *profile,
			   json_t *defaults, json_t **origins);

/*
 * Apply a patch ({key: value|null}, already checked) to settings in place.
 */
void settings_patch(json_t *settings, json_t *patch);

#endif
