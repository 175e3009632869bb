/*
 * TLS (RFC 3261 §26.3.1, RFC 5922) with OpenSSL 3 on non-blocking sockets.
 * TLS 1.2 at least. The server context is made when a TLS listener is
 * opened; the client context on the first outgoing TLS connection. Servers
 * we connect to are checked against the CA bundle and against the name we
 * were asked for (SNI too), or against the address when we had no name.
 * SIP frames by Content-Length, so a peer closing without close_notify is
 * treated as an ordinary close (SSL_OP_IGNORE_UNEXPECTED_EOF).
 */
#include "sip/transport/tp_int.h"

#include "core/err.h"
#include "core/log.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

static void tls_log_errors_at(enum log_level lvl, const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		if (log_enabled(lvl))
			log_msg(lvl, TP_CTX, "%s: %s", what, buf);
	}
}

static void tls_log_errors(const char *what)
{
	tls_log_errors_at(LOG_LVL_ERR, what);
}

static int ctx_common(struct sip_tp *tp, SSL_CTX *ctx, bool need_cert)
{
	const struct sip_tp_config *cfg = &tp->cfg;

	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	                             SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_RELEASE_BUFFERS);
	if (cfg->tls_cert && cfg->tls_key) {
		if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			LOGE(TP_CTX, "TLS: cannot use certificate %s / key %s", cfg->tls_cert,
			     cfg->tls_key);
			tls_log_errors("TLS");
			return EINVAL;
		}
	} else if (need_cert) {
		LOGE(TP_CTX, "TLS listener needs tls_cert and tls_key");
		return EINVAL;
	}
	if (cfg->tls_ca) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) != 1) {
			LOGE(TP_CTX, "TLS: cannot load CA bundle %s", cfg->tls_ca);
			tls_log_errors("TLS");
			return EINVAL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		tls_log_errors("TLS default CA paths");
	}
	return 0;
}

int tp_tls_ctx_server(struct sip_tp *tp)
{
	SSL_CTX *ctx;
	int err;

	if (tp->ssl_srv)
		return 0;
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return ENOMEM;
	err = ctx_common(tp, ctx, true);
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	if (tp->cfg.tls_verify_client)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	tp->ssl_srv = ctx;
	return 0;
}

static int ctx_client(struct sip_tp *tp)
{
	SSL_CTX *ctx;
	int err;

	if (tp->ssl_cli)
		return 0;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return ENOMEM;
	err = ctx_common(tp, ctx, false);
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	SSL_CTX_set_verify(ctx, tp->cfg.tls_verify_server ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	                   NULL);
	tp->ssl_cli = ctx;
	return 0;
}

/* What the server's certificate must name: c->host, else the address we dialled. */
static int client_identity(struct tp_conn *c)
{
	char ip[INET6_ADDRSTRLEN];

	if (c->host) {
		if (SSL_set_tlsext_host_name(c->ssl, c->host) != 1 ||
		    SSL_set1_host(c->ssl, c->host) != 1)
			return ENOMEM;
		/* RFC 5922 §7.2: wildcard certificates do not match SIP domains. */
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_WILDCARDS);
		return 0;
	}
	sa_ntop(&c->peer, ip, sizeof(ip));
	if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), ip) != 1)
		return EINVAL;
	return 0;
}

int tp_tls_conn_start(struct tp_conn *c)
{
	struct sip_tp *tp = c->tp;
	int err;

	if (c->outbound) {
		err = ctx_client(tp);
		if (err)
			return err;
	} else if (!tp->ssl_srv) {
		return EINVAL;
	}
	c->ssl = SSL_new(c->outbound ? tp->ssl_cli : tp->ssl_srv);
	if (!c->ssl)
		return ENOMEM;
	if (SSL_set_fd(c->ssl, c->fd) != 1)
		return ENOMEM;
	if (c->outbound) {
		SSL_set_connect_state(c->ssl);
		err = client_identity(c);
		if (err)
			return err;
	} else {
		SSL_set_accept_state(c->ssl);
	}
	return 0;
}

/* Maps an SSL_get_error() result to the layer's convention. */
static int tls_result(struct tp_conn *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);
	enum log_level lvl;
	char a[SA_STRLEN];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->ssl_want_write = false;
		return EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->ssl_want_write = true;
		return EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return EPIPE;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? errno : EPIPE;
	default:
		break;
	}
	/* Failures of peers that dial us are theirs (and a scanner's): debug only. */
	lvl = c->outbound ? LOG_LVL_NOTICE : LOG_LVL_DEBUG;
	if (SSL_get_verify_result(c->ssl) != X509_V_OK && log_enabled(lvl))
		log_msg(lvl, TP_CTX, "TLS %s %s: certificate: %s", what,
		        sa_str(&c->peer, a, sizeof(a)),
		        X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
	tls_log_errors_at(lvl, what);
	return EPROTO;
}

int tp_tls_handshake(struct tp_conn *c)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(c->ssl);
	if (r == 1)
		return 0;
	r = tls_result(c, r, "handshake");
	return r == EPIPE ? ECONNRESET : r;
}

int tp_tls_read(struct tp_conn *c, char *buf, size_t n, size_t *got)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_read(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0) {
		*got = (size_t)r;
		return 0;
	}
	return tls_result(c, r, "read");
}

int tp_tls_write(struct tp_conn *c, const char *buf, size_t n, size_t *done)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_write(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (r > 0) {
		*done = (size_t)r;
		return 0;
	}
	return tls_result(c, r, "write");
}

void tp_tls_conn_free(struct tp_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}

void tp_tls_free(struct sip_tp *tp)
{
	SSL_CTX_free(tp->ssl_srv);
	SSL_CTX_free(tp->ssl_cli);
	tp->ssl_srv = NULL;
	tp->ssl_cli = NULL;
}
