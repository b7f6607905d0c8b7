import cookieParser from "cookie-parser";
import express, { type NextFunction, type Request, type Response } from "express";
import { createClient } from "redis";
import { requireApiKey } from "./auth/middleware/api_key";
import { csrfProtect } from "./auth/middleware/csrf";
import { rateLimit, RedisHitStore } from "./auth/middleware/rate_limit";
import { loadSession, requireRole } from "./auth/middleware/session";
import { ensureFreshToken } from "./auth/middleware/token_refresh";
import { sessionStore } from "./auth/store/session_store";
import { getInvoicePdf, issueInvoice } from "./billing/invoice";
import { debit, InsufficientFundsError, WalletNotFoundError } from "./billing/wallet";
import { featureFlagJobConfig } from "./config/jobs";
import { sendInvoiceEmail, syncExchangeRates } from "./jobs/handlers";
import { JobQueue } from "./jobs/queue";
import { Scheduler } from "./jobs/scheduler";

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`missing required env var ${name}`);
  return value;
}

async function main(): Promise<void> {
  const secret = requireEnv("COOKIE_SECRET");
  const port = Number(process.env.PORT ?? 3000);

  // Dedicated connection for counters, connected before we accept traffic.
  const counters = createClient({ url: process.env.REDIS_URL });
  await counters.connect();
  const limiter = rateLimit({ hitStore: new RedisHitStore(counters), limit: 120, windowMs: 60_000 });

  const queue = new JobQueue();
  queue.on("invoice.email", sendInvoiceEmail);
  const scheduler = new Scheduler(featureFlagJobConfig, queue);
  scheduler.register({ name: "fx-sync", intervalMs: 15 * 60_000, handler: syncExchangeRates });

  const app = express();
  app.set("trust proxy", 1);
  app.use(express.json({ limit: "100kb" }));
  app.use(cookieParser(secret));

  const web = express.Router();
  web.use(loadSession(), ensureFreshToken(), csrfProtect(secret), limiter);
  web.post("/wallets/:id/pay", async (req, res, next) => {
    try {
      const balance = await debit(req.params.id, Number(req.body.amountCents), `payment:${req.body.reference}`);
      res.json({ balanceCents: balance });
    } catch (err) {
      if (err instanceof InsufficientFundsError) return void res.status(402).json({ error: "insufficient_funds" });
      if (err instanceof WalletNotFoundError) return void res.status(404).json({ error: "not_found" });
      next(err);
    }
  });
  web.get("/invoices/:id/pdf", async (req, res, next) => {
    try {
      res.type("application/pdf").send(await getInvoicePdf(req.params.id));
    } catch (err) {
      next(err);
    }
  });

  const api = express.Router();
  api.use(requireApiKey(), limiter);
  api.post("/invoices/:id/issue", async (req, res, next) => {
    try {
      const invoice = await issueInvoice(req.params.id);
      if (!invoice) return void res.status(409).json({ error: "not_a_draft" });
      queue.enqueue("invoice.email", { invoiceId: invoice.id });
      res.status(201).json(invoice);
    } catch (err) {
      next(err);
    }
  });

  const admin = express.Router();
  admin.use(loadSession(), requireRole("ops"), csrfProtect(secret));
  admin.post("/jobs/:name/run", async (req, res, next) => {
    try {
      const ran = await scheduler.trigger(req.params.name, "manual");
      res.status(ran ? 200 : 409).json({ ran });
    } catch (err) {
      next(err);
    }
  });

  app.use("/api/v1", api);
  app.use("/admin", admin);
  app.use("/", web);
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    console.error(err);
    res.status(500).json({ error: "internal" });
  });

  const server = app.listen(port, () => console.info(`listening on :${port}`));
  scheduler.start();

  process.once("SIGTERM", () => {
    scheduler.stop();
    server.close(async () => {
      await Promise.allSettled([sessionStore.close(), counters.quit()]);
      process.exit(0);
    });
  });
}

main().catch((err) => {
  console.error("fatal", err);
  process.exit(1);
});
