/*
 * Opening a host file that someone else named (an admin's console_log,
 * an image to register, a BMC password file): only below folders the host's
 * own configuration allows, only a regular file, and never blocking (a FIFO
 * named there must not hang a daemon).  snowd runs as root; without this an
 * admin of the API could read any file of the host and show it to viewers.
 */
#ifndef SNOW_FSAFE_H
#define SNOW_FSAFE_H

#include <stddef.h>

/*
 * Open path read-only when, symlinks resolved, it is a regular file below
 * one of dirs (folders separated by ':').  field names the setting in err.
 * @ret a descriptor (O_CLOEXEC), or -errno with err filled: -EPERM outside
 * the folders, -EINVAL not a regular file, or the system's reason.
 */
int fsafe_open(const char *dirs, const char *path, const char *field, char *err, size_t errlen);

#endif
