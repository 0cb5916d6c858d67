/**
 * Page lifecycle (browsers only): a page going into the back/forward cache drops its socket
 * (an open WebSocket keeps a page out of the cache, and a frozen page cannot answer heartbeats)
 * and resumes it when shown again; a page being unloaded closes for good (its calls tell their
 * peers first), so its group and its peers hear at once instead of after the resume window; coming back online or visible reconnects at once
 * instead of after the backoff delay.
 */
export interface LifecycleSession {
  /** Drop the socket as a blip and wait (the server keeps the connection for a resume). */
  suspend(): void;
  /** Reconnect now if the session is waiting to. */
  wake(): void;
  /** The page is being unloaded: end its calls, then close for good (1000). */
  close(): unknown;
}

interface PageGlobals {
  addEventListener?: (type: string, listener: (event: Event) => void) => void;
  removeEventListener?: (type: string, listener: (event: Event) => void) => void;
  document?: {
    visibilityState?: string;
    addEventListener?: (type: string, listener: (event: Event) => void) => void;
    removeEventListener?: (type: string, listener: (event: Event) => void) => void;
  };
}

/** Listens to the page's lifecycle events for `session`; returns the function that stops listening (a no-op outside browsers). */
export function watchPage(session: LifecycleSession, globals: PageGlobals = globalThis as PageGlobals): () => void {
  const doc = globals.document;
  if (typeof globals.addEventListener !== 'function' || typeof doc?.addEventListener !== 'function') return () => undefined;
  const onHide = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) session.suspend();
    else void session.close();
  };
  const onShow = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) session.wake();
  };
  const onOnline = () => session.wake();
  const onVisibility = () => {
    if (doc.visibilityState === 'visible') session.wake();
  };
  globals.addEventListener('pagehide', onHide);
  globals.addEventListener('pageshow', onShow);
  globals.addEventListener('online', onOnline);
  doc.addEventListener('visibilitychange', onVisibility);
  return () => {
    globals.removeEventListener?.('pagehide', onHide);
    globals.removeEventListener?.('pageshow', onShow);
    globals.removeEventListener?.('online', onOnline);
    doc.removeEventListener?.('visibilitychange', onVisibility);
  };
}
