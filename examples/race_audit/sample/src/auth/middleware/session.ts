import type { NextFunction, Request, Response } from "express";
import { sessionStore, type Session } from "../store/session_store";
import { getUser, type User } from "../store/user_cache";

export const SESSION_COOKIE = "sid";

export interface AuthLocals {
  session: Session;
  user: User;
}

function unauthorized(res: Response): void {
  res.status(401).json({ error: "unauthenticated" });
}

/**
 * Loads the session named by the signed `sid` cookie and the user it belongs
 * to into res.locals. With `required: false` anonymous requests pass through.
 */
export function loadSession({ required = true }: { required?: boolean } = {}) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const sid: string | undefined = req.signedCookies?.[SESSION_COOKIE];
    if (!sid) {
      if (required) return unauthorized(res);
      return next();
    }
    try {
      const session = await sessionStore.get(sid);
      const user = session ? await getUser(session.userId) : null;
      if (!session || !user) {
        res.clearCookie(SESSION_COOKIE);
        if (required) return unauthorized(res);
        return next();
      }
      res.locals.session = session;
      res.locals.user = user;
      // Sliding expiry. EXPIRE only resets the TTL, so overlapping requests
      // for the same session all converge on the same deadline.
      sessionStore.touch(sid).catch((err) => console.warn("session touch failed", err));
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function requireRole(role: string) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const user = res.locals.user as User | undefined;
    if (!user) return unauthorized(res);
    if (!user.roles.includes(role)) {
      res.status(403).json({ error: "forbidden" });
      return;
    }
    next();
  };
}
