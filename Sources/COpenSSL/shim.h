// OpenSSL: SHA-1 (WebSocket handshake), HMAC and PBKDF2 (tokens, passwords), random bytes, TLS.
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
// Web Push (NotifyDrivers/WebPush): P-256 keys, ECDH, ECDSA, PEM, AES-128-GCM.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
