#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instr.h"
#include "jsonh.h"
#include "redfish.h"
#include "valid.h"

static const char *const settings_keys[] = { "image", "cmdline", "env", "thresholds",
					     "interval_ms", "power", "groups", "console_log", NULL };

/* Printable, no newline or quote that could break node.conf or the script. */
static int settings_text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

static int settings_env_name_ok(const char *s)
{
	size_t i;

	if (!*s || strlen(s) > 64 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* power for the redfish driver (power_redfish.h).  @ret 0 or -EINVAL with err. */
static int settings_redfish(json_t *p, char *err, size_t errlen)
{
	const char *s, *url;
	char msg[200];
	json_int_t t;
	size_t i;

	if (jsonh_get_str(p, "url", 1, 200, &url, msg, sizeof(msg)) ||
	    jsonh_get_str(p, "user", 1, 64, &s, msg, sizeof(msg)) ||
	    jsonh_get_str(p, "password_file", 1, 1024, &s, msg, sizeof(msg)) ||
	    jsonh_get_int(p, "timeout_s", 0, 1, 600, &t, msg, sizeof(msg)))
		goto bad;
	/* https://HOST[:PORT][/]: the paths are Redfish's own. */
	if (strncmp(url, "https://", 8) || !url[8]) {
		snprintf(err, errlen, "power.url: must be https://HOST[:PORT]");
		return -EINVAL;
	}
	for (i = 8; url[i]; i++)
		if (!((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
		      (url[i] >= '0' && url[i] <= '9') || strchr(".-:[]", url[i]) ||
		      (url[i] == '/' && !url[i + 1]))) {
			snprintf(err, errlen, "power.url: must be https://HOST[:PORT], without a path");
			return -EINVAL;
		}
	jsonh_get_str(p, "password_file", 1, 1024, &s, msg, sizeof(msg));
	if (s[0] != '/') {
		snprintf(err, errlen, "power.password_file: must be an absolute path");
		return -EINVAL;
	}
	if (jsonh_get_str(p, "ca_file", 0, 1024, &s, msg, sizeof(msg)))
		goto bad;
	if (s && s[0] != '/') {
		snprintf(err, errlen, "power.ca_file: must be an absolute path");
		return -EINVAL;
	}
	if (jsonh_get_str(p, "pin", 0, 150, &s, msg, sizeof(msg)))
		goto bad;
	if (s && (strncmp(s, "sha256//", 8) || strlen(s) < 9 || strspn(s + 8,
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=;") != strlen(s + 8))) {
		snprintf(err, errlen, "power.pin: must be sha256//BASE64 (the public key's digest)");
		return -EINVAL;
	}
	if (jsonh_get_str(p, "system", 0, REDFISH_PATH_MAX - 1, &s, msg, sizeof(msg)))
		goto bad;
	if (s && !redfish_path_ok(s)) {
		snprintf(err, errlen, "power.system: must be a path under /redfish/v1/");
		return -EINVAL;
	}
	if (jsonh_get_str(p, "off", 0, 32, &s, msg, sizeof(msg)))
		goto bad;
	if (s && strcmp(s, "ForceOff") && strcmp(s, "GracefulShutdown")) {
		snprintf(err, errlen, "power.off: must be ForceOff or GracefulShutdown");
		return -EINVAL;
	}
	if (jsonh_get_str(p, "cycle", 0, 32, &s, msg, sizeof(msg)))
		goto bad;
	if (s && strcmp(s, "PowerCycle") && strcmp(s, "ForceRestart")) {
		snprintf(err, errlen, "power.cycle: must be PowerCycle or ForceRestart");
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen, "power.%s", msg);
	return -EINVAL;
}

static int settings_power(json_t *p, char *err, size_t errlen)
{
	json_int_t t;
	static const char *const keys[] = { "driver", "socket", "events", "host", "user", "password_file",
					    "interface", "url", "ca_file", "pin", "system", "off",
					    "cycle", "timeout_s", "port", "cipher", "chassis",
					    "sensors_s", "log", "sol", NULL };
	const char *driver, *s;
	char msg[200];

	if (!json_is_object(p)) {
		snprintf(err, errlen, "power: must be an object like {\"driver\": \"agent\"}");
		return -EINVAL;
	}
	if (jsonh_only_keys(p, keys, msg, sizeof(msg)) ||
	    jsonh_get_str(p, "driver", 1, 16, &driver, msg, sizeof(msg)))
		goto bad;
	if (!strcmp(driver, "agent"))
		return 0;
	if (!strcmp(driver, "qmp")) {
		if (jsonh_get_str(p, "socket", 1, 1024, &s, msg, sizeof(msg)))
			goto bad;
		if (s[0] != '/') {
			snprintf(err, errlen, "power.socket: must be an absolute path");
			return -EINVAL;
		}
		/* A second QMP socket snowd keeps open for the VM's events (qmpev.h). */
		if (jsonh_get_str(p, "events", 0, 107, &s, msg, sizeof(msg)))
			goto bad;
		if (s && s[0] != '/') {
			snprintf(err, errlen, "power.events: must be an absolute path");
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(driver, "ipmi")) {
		if (jsonh_get_str(p, "host", 1, 255, &s, msg, sizeof(msg)) ||
		    jsonh_get_str(p, "user", 1, 64, &s, msg, sizeof(msg)) ||
		    jsonh_get_str(p, "password_file", 1, 1024, &s, msg, sizeof(msg)) ||
		    jsonh_get_str(p, "interface", 0, 16, &s, msg, sizeof(msg)) ||
		    jsonh_get_int(p, "port", 0, 1, 65535, &t, msg, sizeof(msg)) ||
		    jsonh_get_int(p, "cipher", 0, 0, 17, &t, msg, sizeof(msg)))
			goto bad;
	}
	if (!strcmp(driver, "redfish") && settings_redfish(p, err, errlen))
		return -EINVAL;
	if (!strcmp(driver, "redfish") || !strcmp(driver, "ipmi")) {
		/* The BMC's sensors every sensors_s (0: never) and its event log (bmc.h). */
		if (jsonh_get_int(p, "sensors_s", 0, 0, 86400, &t, msg, sizeof(msg)))
			goto bad;
		if (json_object_get(p, "log") && !json_is_boolean(json_object_get(p, "log"))) {
			snprintf(err, errlen, "power.log: must be true or false");
			return -EINVAL;
		}
		if (json_object_get(p, "sol") &&
		    (!json_is_boolean(json_object_get(p, "sol")) || strcmp(driver, "ipmi"))) {
			snprintf(err, errlen, "power.sol: must be true or false, for the ipmi driver");
			return -EINVAL;
		}
		if (jsonh_get_str(p, "chassis", 0, REDFISH_PATH_MAX - 1, &s, msg, sizeof(msg)))
			goto bad;
		if (s && !redfish_path_ok(s)) {
			snprintf(err, errlen, "power.chassis: must be a path under /redfish/v1/");
			return -EINVAL;
		}
		/* A VM behind an emulated BMC: its QMP event socket (qmpev.h), as for qmp. */
		if (jsonh_get_str(p, "events", 0, 107, &s, msg, sizeof(msg)))
			goto bad;
		if (s && s[0] != '/') {
			snprintf(err, errlen, "power.events: must be an absolute path");
			return -EINVAL;
		}
		return 0;
	}
	snprintf(err, errlen, "power.driver: '%.16s' is not agent, qmp, ipmi or redfish", driver);
	return -EINVAL;
bad:
	snprintf(err, errlen, "power.%s", msg);
	return -EINVAL;
}

static int settings_one(const char *key, json_t *v, char *err, size_t errlen)
{
	char msg[200];
	const char *k;
	json_t *x;
	size_t i;

	if (!strcmp(key, "image")) {
		if (!json_is_string(v) || valid_name(json_string_value(v), NULL, 0)) {
			snprintf(err, errlen, "image: must be an image name like 'default'");
			return -EINVAL;
		}
	} else if (!strcmp(key, "cmdline")) {
		if (!json_is_string(v) || json_string_length(v) > 1024 ||
		    !settings_text_ok(json_string_value(v))) {
			snprintf(err, errlen, "cmdline: must be printable text of at most 1024 "
					      "characters, without quotes or backslashes");
			return -EINVAL;
		}
	} else if (!strcmp(key, "env")) {
		if (!json_is_object(v) || json_object_size(v) > 256) {
			snprintf(err, errlen, "env: must be an object of at most 256 NAME: \"value\"");
			return -EINVAL;
		}
		json_object_foreach(v, k, x) {
			if (!settings_env_name_ok(k)) {
				snprintf(err, errlen, "env.%.64s: not a variable name ([A-Za-z_][A-Za-z0-9_]*)", k);
				return -EINVAL;
			}
			if (!json_is_string(x) || json_string_length(x) > 1024 ||
			    !settings_text_ok(json_string_value(x)) || strchr(json_string_value(x), '\'')) {
				snprintf(err, errlen, "env.%s: must be printable text without quotes "
						      "or backslashes, at most 1024 characters", k);
				return -EINVAL;
			}
		}
	} else if (!strcmp(key, "thresholds")) {
		if (!json_is_array(v) || json_array_size(v) > 256) {
			snprintf(err, errlen, "thresholds: must be an array of at most 256 thresholds");
			return -EINVAL;
		}
		json_array_foreach(v, i, x) {
			static const char *const tkeys[] = { "value", "kind", "rise", "clear", "samples", NULL };
			struct instr_threshold t;
			if (!json_is_object(x) || jsonh_only_keys(x, tkeys, msg, sizeof(msg)) ||
			    threshold_from_json(x, &t, msg, sizeof(msg))) {
				snprintf(err, errlen, "thresholds[%zu].%s", i,
					 json_is_object(x) ? msg : ": must be an object");
				return -EINVAL;
			}
		}
	} else if (!strcmp(key, "interval_ms")) {
		if (!json_is_integer(v) || json_integer_value(v) < 200 ||
		    json_integer_value(v) > 3600000) {
			snprintf(err, errlen, "interval_ms: must be an integer 200..3600000");
			return -EINVAL;
		}
	} else if (!strcmp(key, "console_log")) {
		if (!json_is_string(v) || json_string_value(v)[0] != '/' ||
		    json_string_length(v) > 1024 || !settings_text_ok(json_string_value(v))) {
			snprintf(err, errlen, "console_log: must be the absolute path of the file "
					      "capturing the node's serial console");
			return -EINVAL;
		}
	} else if (!strcmp(key, "power")) {
		return settings_power(v, err, errlen);
	} else if (!strcmp(key, "groups")) {
		if (!json_is_array(v) || json_array_size(v) > 64) {
			snprintf(err, errlen, "groups: must be an array of at most 64 names");
			return -EINVAL;
		}
		json_array_foreach(v, i, x) {
			if (!json_is_string(x) || valid_name(json_string_value(x), NULL, 0)) {
				snprintf(err, errlen, "groups[%zu]: must be a name like 'rack-1'", i);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int settings_check(json_t *settings, int allow_null, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(settings)) {
		snprintf(err, errlen, "settings: must be an object");
		return -EINVAL;
	}
	if (jsonh_only_keys(settings, settings_keys, err, errlen))
		return -EINVAL;
	json_object_foreach(settings, key, v) {
		if (json_is_null(v)) {
			if (allow_null)
				continue;
			snprintf(err, errlen, "%s: must not be null", key);
			return -EINVAL;
		}
		if (settings_one(key, v, err, errlen))
			return -EINVAL;
	}
	return 0;
}

json_t *settings_effective(json_t *node, const char *profile_name, json_t *profile,
			   json_t *defaults, json_t **origins)
{
	json_t *eff = json_object(), *org = origins ? json_object() : NULL;
	char from[80];
	const char *const *k;

	if (!eff)
		return NULL;
	snprintf(from, sizeof(from), "profile %s", profile_name ? profile_name : "");
	for (k = settings_keys; *k; k++) {
		json_t *v = json_object_get(node, *k);
		const char *o = "node";
		if (!v) {
			v = json_object_get(profile, *k);
			o = from;
		}
		if (!v) {
			v = json_object_get(defaults, *k);
			o = "default";
		}
		if (!v)
			continue;
		json_object_set(eff, *k, v);
		if (org)
			json_object_set_new(org, *k, json_string(o));
	}
	if (origins)
		*origins = org;
	return eff;
}

void settings_patch(json_t *settings, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v) {
		if (json_is_null(v))
			json_object_del(settings, key);
		else
			json_object_set(settings, key, v);
	}
}
