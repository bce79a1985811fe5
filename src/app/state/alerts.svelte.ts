/** What the page tells the person apart from the form: the last failure (resolve, queue or download) and a notice. */
import type { Advice } from '../lib/advice.ts';

class Alerts {
  /** Shown in the alert until the next success or a new name. */
  failure = $state.raw<Advice | undefined>(undefined);
  notice = $state<string | undefined>(undefined);
}

export const alerts = new Alerts();
