import type { NextFunction, Request, Response } from "express";
import { InvalidGrantError, oauthClient } from "../../integrations/oauth_client";
import { sessionStore, type OAuthTokens, type Session } from "../store/session_store";
import { SESSION_COOKIE } from "./session";

// Refresh a little early so a token never expires while a downstream call is in flight.
const EXPIRY_SKEW_MS = 30_000;

function isExpiring(tokens: OAuthTokens, now = Date.now()): boolean {
  return tokens.expiresAt - EXPIRY_SKEW_MS <= now;
}

/**
 * Makes sure res.locals.accessToken holds a usable upstream access token for
 * the current session, refreshing it when it is about to expire.
 *
 * Note: the identity provider rotates refresh tokens, so every successful
 * refresh invalidates the refresh token that was presented.
 */
export function ensureFreshToken() {
  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    const session = res.locals.session as Session | undefined;
    if (!session) return next();

    try {
      // planted: finding id=R1 confidence=0.9 lines=27-32 state=oauthTokens bug="Parallel requests on one session each load the same expiring oauthTokens and all call refresh with the same refresh token across the await; the provider rotates refresh tokens, so every refresh after the first fails with invalid_grant and the session is destroyed, logging the user out." fix="Single-flight the refresh per session (a shared in-flight promise or a per-session lock that re-reads the tokens from the store after acquiring it)."
      let tokens = session.oauthTokens;
      if (isExpiring(tokens)) {
        tokens = await oauthClient.refresh(tokens.refreshToken);
        await sessionStore.setField(session.id, "oauthTokens", tokens);
        session.oauthTokens = tokens;
      }
      res.locals.accessToken = tokens.accessToken;
      next();
    } catch (err) {
      if (err instanceof InvalidGrantError) {
        // The grant is no longer valid upstream; force a fresh login.
        await sessionStore.destroy(session.id).catch(() => undefined);
        res.clearCookie(SESSION_COOKIE);
        res.status(401).json({ error: "reauth_required" });
        return;
      }
      next(err);
    }
  };
}
