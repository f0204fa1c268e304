/* SPDX-License-Identifier: MIT */
/* nl_talk (lib/nltalk.c): one netlink request and the kernel's answers, against a fake kernel
 * (-Wl,--wrap of mnl_socket_sendto and mnl_socket_recvfrom) that hands out the answers each
 * test queues: acks, data, dumps, errors with and without an extended-ack message, and
 * answers that are malformed or do not belong to the request; nl_framed, the check of a read
 * before libmnl walks it. */
#include "nltalk.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define SEQ 4242u

/* The fake kernel: the reads it will answer, one buffer each (a buffer may hold several
 * messages), and what it was sent. */
static struct {
	char read[4][1024];
	size_t read_len[4];
	int nread, rhead;
	int nsent;
	int send_fails;
} fk;

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz);

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	(void)nl;
	(void)req;
	fk.nsent++;
	if (fk.send_fails) {
		errno = ENOBUFS;
		return -1;
	}
	return (ssize_t)siz;
}

ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz)
{
	(void)nl;
	if (fk.rhead >= fk.nread) {
		errno = EAGAIN; /* a real socket would block: the caller read past the end */
		return -1;
	}
	assert_true(fk.read_len[fk.rhead] <= siz);
	memcpy(buf, fk.read[fk.rhead], fk.read_len[fk.rhead]);
	return (ssize_t)fk.read_len[fk.rhead++];
}

static int setup(void **state)
{
	memset(&fk, 0, sizeof(fk));
	*state = mnl_socket_open(NETLINK_ROUTE);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	mnl_socket_close(*state);
	return 0;
}

/* The request: RTM_GETLINK with an ack asked for. */
static struct nlmsghdr *request(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = SEQ;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 7;
	return nlh;
}

/* A new read of the fake kernel, empty; messages are appended to the last read. */
static void new_read(void)
{
	assert_true(fk.nread < 4);
	fk.read_len[fk.nread++] = 0;
}

static struct nlmsghdr *append(uint16_t type, uint16_t flags, uint32_t seq)
{
	int r = fk.nread - 1;
	struct nlmsghdr *nlh;

	assert_true(r >= 0 && fk.read_len[r] + 512 <= sizeof(fk.read[r]));
	nlh = mnl_nlmsg_put_header(fk.read[r] + fk.read_len[r]);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	return nlh;
}

static void close_msg(const struct nlmsghdr *nlh)
{
	fk.read_len[fk.nread - 1] += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* A link answer with its index. */
static void add_link(int ifindex)
{
	struct nlmsghdr *nlh = append(RTM_NEWLINK, 0, SEQ);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	close_msg(nlh);
}

/* NLMSG_ERROR with error (0: the ack). msg: the extended-ack text, or NULL; capped: the
 * request left out of the answer (NLM_F_CAPPED); nul: msg carried with its NUL. */
static void add_error(const struct nlmsghdr *req, int error, const char *msg, int capped, int nul)
{
	uint16_t flags = (uint16_t)((msg ? NLM_F_ACK_TLVS : 0) | (capped ? NLM_F_CAPPED : 0));
	struct nlmsghdr *nlh = append(NLMSG_ERROR, flags, SEQ);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg = *req;
	if (!capped) /* the request's payload follows the header, as the kernel sends it */
		memcpy(mnl_nlmsg_put_extra_header(nlh, req->nlmsg_len - sizeof(*req)),
		       mnl_nlmsg_get_payload(req), req->nlmsg_len - sizeof(*req));
	if (msg && nul)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	else if (msg)
		mnl_attr_put(nlh, NLMSGERR_ATTR_MSG, strlen(msg), msg);
	close_msg(nlh);
}

static int links_seen;
static int last_ifindex;

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;

	assert_ptr_equal(data, &links_seen);
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_ERROR;
	ifi = mnl_nlmsg_get_payload(nlh);
	last_ifindex = ifi->ifi_index;
	links_seen++;
	return MNL_CB_OK;
}

static int refusing_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	errno = EPROTO;
	return MNL_CB_ERROR;
}

/* talk: nl_talk with link_cb, a 256-byte extack filled with junk first */
static int talk(void **state, struct nlmsghdr *req, char *extack)
{
	links_seen = 0;
	last_ifindex = 0;
	memset(extack, 'x', 256);
	errno = 0;
	return nl_talk(*state, req, link_cb, &links_seen, extack, 256);
}

static void test_ack(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	new_read();
	add_error(req, 0, NULL, 0, 0);
	assert_int_equal(talk(state, req, extack), 0);
	assert_int_equal(fk.nsent, 1);
	assert_int_equal(links_seen, 0);
	assert_string_equal(extack, "");
}

static void test_answer_then_ack(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	new_read(); /* one read holding both */
	add_link(7);
	add_error(req, 0, NULL, 0, 0);
	assert_int_equal(talk(state, req, extack), 0);
	assert_int_equal(links_seen, 1);
	assert_int_equal(last_ifindex, 7);

	memset(&fk, 0, sizeof(fk)); /* the same in two reads */
	new_read();
	add_link(9);
	new_read();
	add_error(req, 0, NULL, 0, 0);
	assert_int_equal(talk(state, req, extack), 0);
	assert_int_equal(links_seen, 1);
	assert_int_equal(last_ifindex, 9);
	assert_int_equal(fk.rhead, 2);
}

static void test_dump_until_done(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf), *done;

	new_read();
	add_link(1);
	add_link(2);
	new_read();
	add_link(3);
	done = append(NLMSG_DONE, NLM_F_MULTI, SEQ);
	mnl_nlmsg_put_extra_header(done, sizeof(int));
	close_msg(done);
	assert_int_equal(talk(state, req, extack), 0);
	assert_int_equal(links_seen, 3);
	assert_int_equal(last_ifindex, 3);
}

static void test_error_with_message(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	new_read();
	add_error(req, -EINVAL, "Invalid GSO size", 0, 1);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(extack, "Invalid GSO size");

	memset(&fk, 0, sizeof(fk)); /* the request left out of the answer */
	new_read();
	add_error(req, -EPERM, "Operation needs CAP_NET_ADMIN", 1, 1);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EPERM);
	assert_string_equal(extack, "Operation needs CAP_NET_ADMIN");
}

static void test_error_without_message(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	new_read();
	add_error(req, -ENODEV, NULL, 0, 0);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(extack, "");

	/* a message without its NUL is not a string: left out, the errno kept */
	memset(&fk, 0, sizeof(fk));
	new_read();
	add_error(req, -EBUSY, "no terminator", 0, 0);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EBUSY);
	assert_string_equal(extack, "");
}

static void test_long_message_cut(void **state)
{
	char buf[256], extack[256], msg[400], small[8];
	struct nlmsghdr *req = request(buf);

	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	new_read();
	add_error(req, -EINVAL, msg, 1, 1);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(strlen(extack), 255);
	assert_memory_equal(extack, msg, 255);

	/* the caller's buffer smaller still */
	memset(&fk, 0, sizeof(fk));
	new_read();
	add_error(req, -EINVAL, "Invalid GSO size", 1, 1);
	assert_int_equal(nl_talk(*state, req, NULL, NULL, small, sizeof(small)), -1);
	assert_string_equal(small, "Invalid");
}

static void test_malformed_error(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf), *nlh;

	new_read(); /* NLMSG_ERROR too short to hold its header */
	nlh = append(NLMSG_ERROR, 0, SEQ);
	*(int *)mnl_nlmsg_put_extra_header(nlh, sizeof(int)) = -EINVAL;
	close_msg(nlh);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EBADMSG);
}

static void test_overrun(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	new_read();
	close_msg(append(NLMSG_OVERRUN, 0, SEQ));
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, ENOSPC);
}

static void test_not_ours(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf), *nlh;

	new_read(); /* an answer to another request */
	nlh = append(NLMSG_ERROR, 0, SEQ + 1);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nlmsgerr));
	close_msg(nlh);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EPROTO); /* libmnl: the sequence does not match */
}

/* nl_framed: whole messages, or not */
static void test_framed(void **state)
{
	char b[64] __attribute__((aligned(4))) = {0};
	struct nlmsghdr *h1 = (struct nlmsghdr *)b, *h2 = (struct nlmsghdr *)(b + 20);

	(void)state;
	h1->nlmsg_len = 18; /* padded to 20 */
	h2->nlmsg_len = 16;
	assert_true(nl_framed(b, 36));
	assert_true(nl_framed(b, 0));
	assert_true(nl_framed(b, 18)); /* the last one's padding missing */
	assert_false(nl_framed(b, 8)); /* a stub of a header */
	assert_false(nl_framed(b, 40)); /* 4 bytes after the last message */
	assert_false(nl_framed(b, 34)); /* the second message cut */
	h2->nlmsg_len = 12; /* shorter than a header */
	assert_false(nl_framed(b, 36));
	h2->nlmsg_len = 0x9abc0044u; /* what libmnl 1.0.4's mnl_nlmsg_ok() takes as valid */
	assert_false(nl_framed(b, 36));
	h1->nlmsg_len = 0;
	assert_false(nl_framed(b, 36));
}

static void test_errno_of_error(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	assert_int_equal(nl_errno(0), 0);
	assert_int_equal(nl_errno(-EINVAL), EINVAL);
	assert_int_equal(nl_errno(-4095), 4095);
	assert_int_equal(nl_errno(-4096), EPROTO);
	assert_int_equal(nl_errno(INT32_MIN), EPROTO); /* no negation of it */
	assert_int_equal(nl_errno(5), EPROTO);

	new_read(); /* the same through nl_talk */
	add_error(req, INT32_MIN, NULL, 1, 0);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EPROTO);
}

static void test_unframed_answer(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf), *nlh;

	new_read(); /* a link answer claiming 2^31 + 68 bytes, then the ack */
	add_link(7);
	nlh = (struct nlmsghdr *)fk.read[0];
	nlh->nlmsg_len = 0x80000044u;
	add_error(req, 0, NULL, 0, 0);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(links_seen, 0);
}

static void test_io_and_callback_failures(void **state)
{
	char buf[256], extack[256];
	struct nlmsghdr *req = request(buf);

	fk.send_fails = 1;
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(fk.rhead, 0);

	memset(&fk, 0, sizeof(fk)); /* no answer at all: the read fails, no loop */
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(errno, EAGAIN);

	memset(&fk, 0, sizeof(fk)); /* the caller's callback refuses an answer */
	new_read();
	add_link(7);
	add_error(req, 0, NULL, 0, 0);
	assert_int_equal(nl_talk(*state, req, refusing_cb, NULL, extack, sizeof(extack)), -1);
	assert_int_equal(errno, EPROTO);

	memset(&fk, 0, sizeof(fk)); /* an answer too short for the callback's header */
	new_read();
	close_msg(append(RTM_NEWLINK, 0, SEQ));
	add_error(req, 0, NULL, 0, 0);
	assert_int_equal(talk(state, req, extack), -1);
	assert_int_equal(links_seen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_then_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_until_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_with_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_without_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_and_callback_failures, setup, teardown),
		cmocka_unit_test(test_framed),
		cmocka_unit_test_setup_teardown(test_errno_of_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unframed_answer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
