/* SPDX-License-Identifier: MIT */
/*
 * The attacker of tests/netns/membership.test: send group messages a header must refuse.
 *   group-tool forge ADDR PORT SEEDHEX NAME [COUNT]
 *                                             a heartbeat naming NAME ("http" up, load 0),
 *                                             signed with the key of SEEDHEX (not NAME's);
 *                                             COUNT (1 to 1000) times: a flood
 *   group-tool replay ADDR PORT HEXFILE       send the datagram of HEXFILE (hex, one line)
 *                                             unchanged: a captured message
 * Exit 0 when sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <sodium.h>

#include "group.h"

static int send_to(const char *addr, const char *port, const uint8_t *buf, size_t len)
{
	struct cn_coop_addr a;
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd;

	if (cn_coop_addr_parse(&a, addr) < 0) {
		fprintf(stderr, "group-tool: \"%s\" is not an address\n", addr);
		return 1;
	}
	a.port = (uint16_t)atoi(port);
	sl = cn_coop_addr_to_sockaddr(&a, &ss);
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl) != (ssize_t)len) {
		perror("group-tool: sendto");
		return 1;
	}
	close(fd);
	printf("sent %zu bytes to %s\n", len, addr);
	return 0;
}

static int forge(char **argv, int count)
{
	uint8_t seed[CN_GROUP_SEED_LEN], pk[CN_GROUP_PK_LEN], sk[CN_GROUP_SK_LEN];
	uint8_t buf[CN_GROUP_DGRAM_MAX];
	struct cn_group_msg g = { .type = CN_GROUP_HEARTBEAT, .interval_ms = 500, .n_services = 1 };
	struct timeval tv;
	size_t len, bl;

	if (sodium_init() < 0 || sodium_hex2bin(seed, sizeof(seed), argv[4], strlen(argv[4]), NULL,
						 &bl, NULL) != 0 || bl != sizeof(seed) ||
	    strlen(argv[5]) >= sizeof(g.name)) {
		fprintf(stderr, "group-tool: bad seed or name\n");
		return 2;
	}
	gettimeofday(&tv, NULL);
	memcpy(g.name, argv[5], strlen(argv[5]));
	g.seq = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec + 60000000; /* ahead */
	strcpy(g.svc[0].name, "http");
	g.svc[0].status = CN_VNIC_UP;
	if (cn_group_keypair(pk, sk, seed) < 0 ||
	    cn_group_encode(&g, (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000, buf,
			    sizeof(buf), &len) != CN_GROUP_OK || cn_group_seal(buf, len, sk) < 0) {
		fprintf(stderr, "group-tool: cannot build the message\n");
		return 2;
	}
	for (int i = 0; i < count; i++)
		if (send_to(argv[2], argv[3], buf, len))
			return 1;
	return 0;
}

static int replay(char **argv)
{
	char hex[2 * CN_COOP_MAX_LEN + 2];
	uint8_t buf[CN_COOP_MAX_LEN];
	size_t len;
	FILE *f = fopen(argv[4], "r");

	if (!f || !fgets(hex, sizeof(hex), f)) {
		fprintf(stderr, "group-tool: cannot read %s\n", argv[4]);
		return 2;
	}
	fclose(f);
	hex[strcspn(hex, "\r\n")] = '\0';
	if (sodium_hex2bin(buf, sizeof(buf), hex, strlen(hex), NULL, &len, NULL) != 0) {
		fprintf(stderr, "group-tool: %s is not hex\n", argv[4]);
		return 2;
	}
	return send_to(argv[2], argv[3], buf, len);
}

int main(int argc, char **argv)
{
	int count = argc == 7 ? atoi(argv[6]) : 1;

	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "forge") && count >= 1 && count <= 1000)
		return forge(argv, count);
	if (argc == 5 && !strcmp(argv[1], "replay"))
		return replay(argv);
	fprintf(stderr, "usage: group-tool forge ADDR PORT SEEDHEX NAME [COUNT] | "
		"replay ADDR PORT HEXFILE\n");
	return 2;
}
