/* SPDX-License-Identifier: MIT */
#include "cfgpath.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cn_path_resolve(char *out, size_t size, const char *base_file, const char *path)
{
	char copy[PATH_MAX], dir[PATH_MAX];
	int n;

	if (size)
		out[0] = '\0';
	if (path[0] == '/' || path[0] == '\0') {
		n = snprintf(out, size, "%s", path);
	} else {
		if (snprintf(copy, sizeof(copy), "%s", base_file) >= (int)sizeof(copy)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (!realpath(dirname(copy), dir))
			return -1;
		n = snprintf(out, size, "%s/%s", strcmp(dir, "/") ? dir : "", path);
	}
	if (n < 0 || (size_t)n >= size) {
		if (size)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
