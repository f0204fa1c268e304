/* SPDX-License-Identifier: MIT */
/*
 * Paths written in a configuration document: a relative one is relative to the folder of the
 * file that holds it (not to the working directory, which a daemon leaves for "/").
 */
#ifndef COOPNET_CFGPATH_H
#define COOPNET_CFGPATH_H

#include <stddef.h>

/* out = path if it is absolute (or empty), else the absolute folder of base_file + "/" + path.
 * -1 with errno ENAMETOOLONG when it does not fit size, or realpath's errno when the folder
 * cannot be resolved; out is then "". */
int cn_path_resolve(char *out, size_t size, const char *base_file, const char *path);

#endif
