import type { Category } from '../../shared/events.ts';

/** A category's name on its colour (the colour is decoration; the name carries the meaning). */
export function CategoryBadge({ category }: { category: Category }) {
  return <span className={`badge cat-${category.toLowerCase()}`}>{category}</span>;
}
