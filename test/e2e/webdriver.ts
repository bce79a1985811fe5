/**
 * The few W3C WebDriver commands the WebKit suite needs, over fetch: a session, navigation, scripts and
 * native clicks. WebKitWebDriver speaks exactly this protocol (https://www.w3.org/TR/webdriver2/).
 */

/** The key under which WebDriver returns and accepts an element reference. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriverError extends Error {}

export class WebDriverSession {
  private constructor(
    private readonly base: string,
    readonly id: string,
  ) {}

  static async create(base: string, capabilities: Record<string, unknown>): Promise<WebDriverSession> {
    const value = (await call(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } })) as {
      sessionId: string;
    };
    return new WebDriverSession(base, value.sessionId);
  }

  private send(method: string, path: string, body?: unknown): Promise<unknown> {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async navigate(url: string): Promise<void> {
    await this.send('POST', '/url', { url });
  }

  /** Runs `body` (a function body: `arguments` holds `args`) in the page and returns its JSON result. */
  execute<T>(body: string, args: unknown[] = []): Promise<T> {
    return this.send('POST', '/execute/sync', { script: body, args }) as Promise<T>;
  }

  async findElement(css: string): Promise<string> {
    const value = (await this.send('POST', '/element', { using: 'css selector', value: css })) as Record<
      string,
      string
    >;
    return value[ELEMENT]!;
  }

  /** A real click (pointer events at the element's centre), as a person's would be. */
  async click(css: string): Promise<void> {
    await this.send('POST', `/element/${await this.findElement(css)}/click`, {});
  }

  async close(): Promise<void> {
    await this.send('DELETE', '');
  }
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as { value: unknown };
  if (!response.ok) {
    const error = json.value as { error?: string; message?: string };
    throw new WebDriverError(`WebDriver ${method} ${path}: ${error.error ?? response.status}: ${error.message ?? ''}`);
  }
  return json.value;
}
