#include "store/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

struct digest_ctx {
	EVP_MD_CTX *md;
};

digest_ctx_t *digest_new(void)
{
	digest_ctx_t *d = cb_xcalloc(1, sizeof(*d));
	d->md = EVP_MD_CTX_new();
	if (!d->md || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
		CB_BUG("openssl sha256 init failed");
	return d;
}

void digest_update(digest_ctx_t *d, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(d->md, data, len) != 1)
		CB_BUG("openssl sha256 update failed");
}

static void to_str(const unsigned char *md, char out[DIGEST_STR_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[DIGEST_STR_LEN] = '\0';
}

void digest_final(digest_ctx_t *d, char out[DIGEST_STR_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(d->md, md, &n) != 1 || n != 32)
		CB_BUG("openssl sha256 final failed");
	to_str(md, out);
}

void digest_reset(digest_ctx_t *d)
{
	if (EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1)
		CB_BUG("openssl sha256 init failed");
}

void digest_free(digest_ctx_t *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->md);
	free(d);
}

void digest_buffer(const void *data, size_t len, char out[DIGEST_STR_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1)
		CB_BUG("openssl sha256 failed");
	to_str(md, out);
}

int digest_file(const char *path, char out[DIGEST_STR_LEN + 1], cb_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", path);
	digest_ctx_t *d = digest_new();
	enum { BUF = 1 << 16 };
	static __thread char *buf; /* BUF bytes, this thread's */
	if (!buf)
		buf = cb_thread_alloc(BUF);
	for (;;) {
		ssize_t n = read(fd, buf, BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			digest_free(d);
			return cb_error_errno(err, "read '%s'", path);
		}
		if (n == 0)
			break;
		digest_update(d, buf, (size_t)n);
	}
	digest_final(d, out);
	digest_free(d);
	return 0;
}

bool digest_is_valid(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != DIGEST_STR_LEN)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int digest_validate(const char *s, cb_error_t *err)
{
	if (digest_is_valid(s))
		return 0;
	if (s && strchr(s, ':') && strncmp(s, "sha256:", 7) != 0)
		return cb_error_fail(err, EINVAL, "unsupported digest algorithm in '%s'", s);
	return cb_error_fail(err, EINVAL, "invalid digest '%s'", s ? s : "");
}

int digest_parse(const char *s, digest_t *out, cb_error_t *err)
{
	if (digest_validate(s, err) < 0)
		return -1;
	memcpy(out->s, s, DIGEST_STR_LEN + 1);
	return 0;
}

const char *digest_hex(const char *s)
{
	return s + 7;
}
