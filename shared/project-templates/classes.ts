/** The project classes a landing zone can be created from: each is a folder `templates/<class>/`. */
export const PROJECT_CLASSES = ['java', 'dotnet', 'node-web', 'python-backend', 'mobile-backend'] as const;
export type ProjectClass = (typeof PROJECT_CLASSES)[number];

export function isProjectClass(value: string): value is ProjectClass {
  return (PROJECT_CLASSES as readonly string[]).includes(value);
}
