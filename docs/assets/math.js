// Typeset the math that pymdownx.arithmatex (generic mode) wraps in .arithmatex elements,
// with the KaTeX copy in assets/katex/ (no network). Runs on every page load, and again after
// Material's instant navigation if that is ever enabled (document$).
(function () {
  function typeset(root) {
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
        strict: "ignore",
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { typeset(document.body); });
  } else {
    document.addEventListener("DOMContentLoaded", function () { typeset(document.body); });
  }
})();
