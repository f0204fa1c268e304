/* SPDX-License-Identifier: MIT */
/* coop_int.h: the datagram's field offsets (the layout is in lib/coop.c and docs/protocol.md)
 * and the diagnostic helper, shared by coop.c (checks) and coop_wire.c (encode, decode). */
#ifndef COOPNET_COOP_INT_H
#define COOPNET_COOP_INT_H

#include <stddef.h>

#include "coop.h"


#define OFF_MAGIC   0
#define OFF_VERSION 4
#define OFF_CTL     5
#define OFF_COOP    6
#define OFF_LENGTH  8
#define OFF_ID      10
#define OFF_ERROR   12
#define OFF_VSTATUS 14
#define OFF_SKIND   15
#define OFF_TS      16
#define OFF_NSS     24
#define OFF_NSP     40
#define OFF_SENDER  CN_COOP_OFF_SENDER
#define OFF_SADDR   (OFF_SENDER + 4)
#define OFF_SNAME   (OFF_SENDER + 20)
#define OFF_SRES    (OFF_SENDER + 36)
#define OFF_SERVICE CN_COOP_OFF_SERVICE
#define OFF_PROOF   CN_COOP_OFF_PROOF
#define OFF_FWD     CN_COOP_OFF_FWD
#define OFF_DEVLEN  CN_COOP_OFF_DEVLEN
#define OFF_RES2    182

/* Note the field and offset in diag (NULL-safe); returns err. */
static inline enum cn_coop_err cn_coop_fail(struct cn_coop_diag *diag, enum cn_coop_err err,
					    const char *field, size_t offset)
{
	if (diag != NULL) {
		diag->field = field;
		diag->offset = offset;
	}
	return err;
}

#endif
