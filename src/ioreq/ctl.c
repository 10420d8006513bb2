/* Control-socket messages (see ctl.h). */
#include "ioreq/ctl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ctl_send(int sock, const void *msg, const int *fds, unsigned n_fds)
{
	const struct ctl_hdr *h = msg;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	} u;
	struct iovec iov = {(void *)msg, h->len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (n_fds > CTL_MAX_FDS || h->len < sizeof(*h) || h->len > CTL_MAX_MSG)
		return -EINVAL;
	if (n_fds) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == h->len ? 0 : -EMSGSIZE;
}

ssize_t ctl_recv(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
		 unsigned *n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
	} u;
	struct iovec iov = {buf, cap};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct ctl_hdr *h = buf;
	unsigned got = 0;
	ssize_t n;

	*n_fds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Take every descriptor that came, so none leaks, before judging the
	 * message. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < max_fds)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	*n_fds = got;
	if (n == 0)
		return 0;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(*h) ||
	    h->len != (size_t)n) {
		for (unsigned i = 0; i < got; i++)
			close(fds[i]);
		*n_fds = 0;
		return -EBADMSG;
	}
	return n;
}

void ctl_set_name(char dst[CTL_NAME_LEN], const char *src)
{
	size_t n = strnlen(src, CTL_NAME_LEN - 1);
	memcpy(dst, src, n);
	memset(dst + n, 0, CTL_NAME_LEN - n);
}

const char *ctl_name(char field[CTL_NAME_LEN])
{
	field[CTL_NAME_LEN - 1] = 0;
	return field;
}

const char *ctl_text_str(struct ctl_text *t)
{
	t->text[sizeof(t->text) - 1] = 0;
	return t->text;
}
