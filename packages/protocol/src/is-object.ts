/** A JSON object (not null, not an array): one copy for the light checks of the browser build. */
export const isJsonObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
