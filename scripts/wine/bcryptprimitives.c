/*
 * Wine 8.0 (Debian 12) has no bcryptprimitives.dll, whose ProcessPrng Go's Windows runtime
 * calls at start for its random numbers. This stand-in, for the Wine prefix of the tests
 * only (never shipped with dream), answers it from bcrypt's system generator, as Windows'
 * own ProcessPrng does.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T n) {
	while (n > 0) {
		ULONG chunk = n > 0x40000000 ? 0x40000000 : (ULONG) n;
		if (BCryptGenRandom(NULL, buf, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
		buf += chunk;
		n -= chunk;
	}
	return TRUE;
}
