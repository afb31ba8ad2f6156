// ipywidgets' HTML renderer typesets math through MathJax 2's `MathJax.Hub.Queue`; the site
// serves MathJax 3, which has `typesetPromise` instead. This gives MathJax 3 the one call the
// widgets make, so a widget label with math is typeset instead of throwing.
(function () {
  const hub = {
    Queue: function (...jobs) {
      const mj = window.MathJax;
      const ready = mj && mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
      for (const job of jobs) {
        const element = Array.isArray(job) ? job[2] : undefined;
        if (element) ready.then(() => mj.typesetPromise && mj.typesetPromise([element])).catch(() => {});
      }
    },
  };
  const install = () => { if (window.MathJax && !window.MathJax.Hub) window.MathJax.Hub = hub; };
  install();
  document.addEventListener("DOMContentLoaded", install);
  window.addEventListener("load", install);
})();
