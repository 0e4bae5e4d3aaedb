// The page's files are imported as text (ui-assets.ts). TypeScript before 7.1 types an import by
// its file's extension alone, which leaves these unknown (and the .html one an HTMLBundle: ui-assets.ts says otherwise).
declare module "*/ui/app.js" {
  const text: string;
  export default text;
}
declare module "*/ui/style.css" {
  const text: string;
  export default text;
}
