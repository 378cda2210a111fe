// OpenSSL: SHA-1 (WebSocket handshake), HMAC and PBKDF2 (tokens, passwords), random bytes, TLS.
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
