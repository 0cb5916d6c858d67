/** Why a token was refused: shared by the HS256 authority (tokens.ts) and the JWKS verifier (jwks.ts). */
export type VerifyFailure = { code: 'UNAUTHORIZED' | 'TOKEN_EXPIRED' | 'SERVER_UNAVAILABLE'; message: string };
