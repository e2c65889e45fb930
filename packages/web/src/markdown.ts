// Markdown to safe HTML: marked renders, DOMPurify strips anything executable (scripts, event
// handlers, javascript: URLs, iframes, forms, styles). The only place the app sets innerHTML from data.
// Loaded on demand by the article page only, so the home page does not pay for marked and DOMPurify.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: false, async: false });

let hooked = false;
function purifier() {
  if (!hooked) {
    // Links from authors open in a new tab without handing it our window.
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A' && node.getAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

export function renderMarkdown(source: string): string {
  const html = marked.parse(source ?? '') as string;
  return purifier().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'object', 'embed', 'svg', 'math'],
    FORBID_ATTR: ['style', 'srcset', 'formaction'],
    ADD_ATTR: ['target'],
  });
}
