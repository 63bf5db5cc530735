import { type Labels, matches, parseSelector, type SelectorNode } from '@tricolor/datastore';

/** Parsed selectors by their (canonical) text, so each distinct selector is parsed once. */
export class SelectorCache {
  private readonly trees = new Map<string, SelectorNode>();

  tree(selector: string): SelectorNode {
    let t = this.trees.get(selector);
    if (!t) {
      t = parseSelector(selector);
      this.trees.set(selector, t);
    }
    return t;
  }

  matches(selector: string, labels: Labels): boolean {
    return matches(this.tree(selector), labels);
  }
}
