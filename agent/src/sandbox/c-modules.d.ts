// confined-exec.c is imported as text (confined-exec.ts): TypeScript types an import by its extension.
declare module "*.c" {
  const text: string;
  export default text;
}
