/**
 * Skapi's `@formHandler()`: a `SubmitEvent` may stand in for the params; the
 * form's named inputs become them. Outside browsers this returns the value as is.
 */
export function fromForm(value: unknown, options: { nullIfEmpty?: boolean } = {}): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const event = value as { preventDefault?: unknown; target?: unknown };
  const FormDataCtor = (globalThis as { FormData?: typeof FormData }).FormData;
  const FormCtor = (globalThis as { HTMLFormElement?: typeof HTMLFormElement }).HTMLFormElement;
  if (typeof event.preventDefault !== 'function' || !FormDataCtor || !FormCtor || !(event.target instanceof FormCtor)) {
    return value;
  }
  (event.preventDefault as () => void).call(value);
  const params: Record<string, unknown> = {};
  for (const [key, entry] of new FormDataCtor(event.target)) {
    if (typeof entry !== 'string') continue;
    params[key] = options.nullIfEmpty && entry === '' ? null : entry;
  }
  return params;
}
