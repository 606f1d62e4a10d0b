/** The styles every page shares (colours chosen for WCAG AA contrast on the light background). */
import { css } from 'lit';

export const pageStyles = css`
  :host {
    display: block;
    color: #1a1d24;
    font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  }
  h1 {
    font-size: 1.5rem;
    margin: 0 0 0.75rem;
  }
  h2 {
    font-size: 1.15rem;
    margin: 1.25rem 0 0.5rem;
  }
  a {
    color: #0b57d0;
  }
  a:focus-visible,
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  summary:focus-visible {
    outline: 3px solid #b35c00;
    outline-offset: 2px;
  }
  button {
    font: inherit;
    padding: 0.35rem 0.8rem;
    border: 1px solid #0b57d0;
    background: #0b57d0;
    color: #fff;
    border-radius: 6px;
    cursor: pointer;
    min-height: 2rem;
  }
  button.secondary {
    background: #fff;
    color: #0b57d0;
  }
  button.danger {
    background: #b3261e;
    border-color: #b3261e;
  }
  button:disabled {
    background: #d5d8de;
    border-color: #d5d8de;
    color: #3d424c;
    cursor: not-allowed;
  }
  input,
  select,
  textarea {
    font: inherit;
    padding: 0.3rem 0.5rem;
    border: 1px solid #6b7280;
    border-radius: 6px;
    background: #fff;
    color: inherit;
    max-width: 100%;
    box-sizing: border-box;
  }
  label {
    display: inline-flex;
    flex-direction: column;
    gap: 0.15rem;
    font-size: 0.85rem;
    color: #3d424c;
  }
  .muted {
    color: #4b5260;
  }
  .error {
    color: #a1160a;
    background: #fdecea;
    border: 1px solid #f3b8b0;
    padding: 0.5rem 0.75rem;
    border-radius: 6px;
    overflow-wrap: anywhere;
  }
  .ok {
    color: #0f5c2e;
  }
  .card {
    background: #fff;
    border: 1px solid #d5d8de;
    border-radius: 8px;
    padding: 0.75rem 1rem;
    margin: 0 0 0.75rem;
    overflow-wrap: anywhere;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem 1rem;
    align-items: end;
  }
  .table-wrap {
    overflow-x: auto;
    -webkit-overflow-scrolling: touch;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    background: #fff;
  }
  th,
  td {
    text-align: left;
    padding: 0.4rem 0.6rem;
    border-bottom: 1px solid #e3e5e9;
    vertical-align: top;
  }
  th {
    font-size: 0.8rem;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: #3d424c;
    white-space: nowrap;
  }
  code,
  pre {
    font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace;
    font-size: 0.88em;
  }
  pre {
    background: #f3f4f6;
    padding: 0.6rem;
    border-radius: 6px;
    overflow-x: auto;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
