#!/usr/bin/env node
// Type-checks an untrusted worker's TypeScript without ever running it.
//
// Usage: node ts_check.cjs <typescript_package_dir> <work_dir>
//
// <work_dir> holds `solution.ts` (the worker's code) and `harness.ts` (our code that imports and calls
// the solution). Prints ONE JSON object on stdout:
//   {"typescript_version", "diagnostics": [{file, line, code, message}], "any_lines": [...],
//    "suppression_lines": [...], "exported_functions": [...]}
// Exit status is 0 whenever the check itself ran (diagnostics are data, not failures); it is non-zero
// only when this script could not do its job (bad arguments, missing files, a crash).
"use strict";

const fs = require("fs");
const path = require("path");

const SOLUTION = "solution.ts";
const HARNESS = "harness.ts";
const SUPPRESSION = /@ts-(?:ignore|nocheck|expect-error)\b/gi;

function main(argv) {
  if (argv.length !== 2) {
    throw new Error("usage: node ts_check.cjs <typescript_package_dir> <work_dir>");
  }
  const ts = require(path.resolve(argv[0]));
  const workDir = fs.realpathSync(path.resolve(argv[1]));
  const options = compilerOptions(ts);
  const host = sandboxedHost(ts, options, [workDir, path.dirname(ts.getDefaultLibFilePath(options))]);
  const rootNames = [SOLUTION, HARNESS].map((name) => path.join(workDir, name));
  for (const file of rootNames) {
    if (!fs.existsSync(file)) throw new Error(`missing input file: ${file}`);
  }
  const program = ts.createProgram({ rootNames, options, host });
  const solution = program.getSourceFile(rootNames[0]);
  if (solution === undefined) throw new Error("solution.ts was not loaded into the program");
  return {
    typescript_version: ts.version,
    diagnostics: ts.getPreEmitDiagnostics(program).map((d) => toDiagnostic(ts, workDir, d)),
    any_lines: anyLines(ts, solution),
    suppression_lines: suppressionLines(ts, solution),
    exported_functions: exportedFunctions(ts, solution),
  };
}

// Strict, self-contained settings: no @types, no DOM, every module is a module (so the solution and
// the harness never share a global scope), and `./solution` resolves without a file extension.
function compilerOptions(ts) {
  return {
    strict: true,
    noEmit: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    allowUnreachableCode: false,
    allowUnusedLabels: false,
    forceConsistentCasingInFileNames: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ["lib.es2022.d.ts"],
    types: [],
    typeRoots: [],
    skipLibCheck: true,
    allowJs: false,
    resolveJsonModule: false,
  };
}

// A compiler host that can only see the work dir and the compiler's own lib files. Worker code may
// try `import "lodash"` or `/// <reference path="/etc/passwd" />`; such lookups must fail the same
// way on every machine instead of depending on (or echoing) whatever happens to be on disk.
function sandboxedHost(ts, options, allowedDirs) {
  const host = ts.createCompilerHost(options, true);
  const allowed = (p) => {
    const abs = path.resolve(p);
    return allowedDirs.some((dir) => abs === dir || abs.startsWith(dir + path.sep));
  };
  const guard = (fn, denied) => (p, ...rest) => (allowed(p) ? fn(p, ...rest) : denied);
  host.fileExists = guard(host.fileExists.bind(host), false);
  host.readFile = guard(host.readFile.bind(host), undefined);
  host.directoryExists = guard((p) => ts.sys.directoryExists(p), false);
  host.getDirectories = guard((p) => ts.sys.getDirectories(p), []);
  host.realpath = (p) => p;
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, ...rest) => (allowed(fileName) ? getSourceFile(fileName, ...rest) : undefined);
  return host;
}

function toDiagnostic(ts, workDir, d) {
  let file = null;
  let line = null;
  if (d.file !== undefined) {
    const rel = path.relative(workDir, d.file.fileName);
    file = rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(d.file.fileName) : rel;
    if (d.start !== undefined) line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
  }
  return { file, line, code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") };
}

function lineOf(sf, pos) {
  return sf.getLineAndCharacterOfPosition(pos).line + 1;
}

function sortedUnique(numbers) {
  return [...new Set(numbers)].sort((a, b) => a - b);
}

// Every `any` the parser saw in a type position: annotations, `as any`, `any[]`, `Array<any>`, ...
// Strings, comments and identifiers such as `anything` never produce an AnyKeyword node.
function anyLines(ts, sf) {
  const lines = [];
  const visit = (node) => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) lines.push(lineOf(sf, node.getStart(sf)));
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return sortedUnique(lines);
}

// Directives live in comments, and every comment is trivia in front of some real token (the
// end-of-file token included), so visiting the leading/trailing comment ranges of every token finds
// all of them while text inside strings, templates and regexes is never mistaken for a comment.
function suppressionLines(ts, sf) {
  const text = sf.text;
  const seen = new Set();
  const lines = [];
  const scanComments = (ranges) => {
    for (const range of ranges || []) {
      if (seen.has(range.pos)) continue;
      seen.add(range.pos);
      const comment = text.slice(range.pos, range.end);
      for (const match of comment.matchAll(SUPPRESSION)) lines.push(lineOf(sf, range.pos + match.index));
    }
  };
  const visit = (node) => {
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = node.getChildren(sf);
    if (children.length === 0) {
      scanComments(ts.getLeadingCommentRanges(text, node.pos));
      scanComments(ts.getTrailingCommentRanges(text, node.end));
    }
    for (const child of children) visit(child);
  };
  visit(sf);
  return sortedUnique(lines);
}

function hasModifier(ts, node, kind) {
  return (ts.canHaveModifiers(node) && (ts.getModifiers(node) || []).some((m) => m.kind === kind)) || false;
}

function isFunctionValue(ts, expr) {
  let e = expr;
  while (e !== undefined && (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e))) {
    e = e.expression;
  }
  return e !== undefined && (ts.isArrowFunction(e) || ts.isFunctionExpression(e));
}

// Names a harness can import: `export function f`, `export const f = () => ...` (or a function
// expression), and `export { f, g as h }` lists that name such top-level functions.
function exportedFunctions(ts, sf) {
  const locals = new Set();
  const exported = [];
  for (const stmt of sf.statements) {
    const isExported = hasModifier(ts, stmt, ts.SyntaxKind.ExportKeyword);
    const isDefault = hasModifier(ts, stmt, ts.SyntaxKind.DefaultKeyword);
    if (ts.isFunctionDeclaration(stmt) && stmt.name !== undefined) {
      locals.add(stmt.name.text);
      if (isExported && !isDefault) exported.push(stmt.name.text);
    } else if (ts.isVariableStatement(stmt) && (stmt.declarationList.flags & ts.NodeFlags.Const) !== 0) {
      for (const decl of stmt.declarationList.declarations) {
        if (!ts.isIdentifier(decl.name) || !isFunctionValue(ts, decl.initializer)) continue;
        locals.add(decl.name.text);
        if (isExported) exported.push(decl.name.text);
      }
    }
  }
  for (const stmt of sf.statements) {
    if (!ts.isExportDeclaration(stmt) || stmt.moduleSpecifier !== undefined || stmt.isTypeOnly) continue;
    if (stmt.exportClause === undefined || !ts.isNamedExports(stmt.exportClause)) continue;
    for (const spec of stmt.exportClause.elements) {
      const local = (spec.propertyName || spec.name).text;
      if (!spec.isTypeOnly && locals.has(local)) exported.push(spec.name.text);
    }
  }
  return [...new Set(exported)];
}

try {
  process.stdout.write(JSON.stringify(main(process.argv.slice(2))) + "\n");
} catch (err) {
  process.stderr.write(`ts_check.cjs: ${err && err.stack ? err.stack : String(err)}\n`);
  process.exitCode = 2;
}
