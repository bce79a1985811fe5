/**
 * Brings a panel that just opened into view when it opened out of sight (on a phone, below the form);
 * where its start is already well in view (a wide screen) the page stays where the person left it.
 */
export function scrollToIfHidden(element: Element): void {
  const top = element.getBoundingClientRect().top;
  if (top < 0 || top > innerHeight * 0.6) element.scrollIntoView({ block: 'start', behavior: 'instant' });
}
