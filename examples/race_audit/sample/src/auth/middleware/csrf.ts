import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";
import type { Session } from "../store/session_store";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const CSRF_COOKIE = "csrf";
const CSRF_HEADER = "x-csrf-token";

function sign(sessionId: string, nonce: string, secret: string): string {
  return createHmac("sha256", secret).update(`${sessionId}.${nonce}`).digest("base64url");
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Issues a double-submit token bound to the session id. The token is
 * stateless: it is a random nonce plus an HMAC over (session id, nonce).
 */
export function issueCsrfToken(res: Response, session: Session, secret: string): string {
  const nonce = randomBytes(16).toString("base64url");
  const token = `${nonce}.${sign(session.id, nonce, secret)}`;
  res.cookie(CSRF_COOKIE, token, { sameSite: "strict", secure: true, httpOnly: false });
  return token;
}

export function verifyCsrfToken(token: string, sessionId: string, secret: string): boolean {
  const [nonce, mac] = token.split(".");
  if (!nonce || !mac) return false;
  return safeEqual(mac, sign(sessionId, nonce, secret));
}

/**
 * Rejects state-changing requests unless the header token matches the
 * cookie token and carries a valid signature for the current session.
 */
export function csrfProtect(secret: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) return next();

    const session = res.locals.session as Session | undefined;
    if (!session) {
      res.status(401).json({ error: "unauthenticated" });
      return;
    }

    const header = req.get(CSRF_HEADER);
    const cookie: string | undefined = req.cookies?.[CSRF_COOKIE];
    if (!header || !cookie || !safeEqual(header, cookie) || !verifyCsrfToken(header, session.id, secret)) {
      res.status(403).json({ error: "csrf_mismatch" });
      return;
    }
    next();
  };
}
