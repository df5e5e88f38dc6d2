// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Confirm destructive actions that carry a data-confirm message.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Prevent double submits: disable submit buttons once a form is sent.
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", () => {
      form.querySelectorAll("button[type=submit]").forEach((b) => {
        setTimeout(() => { b.disabled = true; }, 0);
      });
    });
  });
});

// Contact pickers: a server-side search fills the <datalist> as the user types.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-contact-search]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    let timer = null;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) return;
      timer = setTimeout(async () => {
        const url = `${input.dataset.contactSearch}?q=${encodeURIComponent(q)}`;
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const payload = await response.json();
        const results = Array.isArray(payload) ? payload : payload.results || [];
        list.replaceChildren(
          ...results.map((c) => {
            const option = document.createElement("option");
            option.value = c.number;
            option.label = c.company ? `${c.name} (${c.company})` : c.name;
            return option;
          })
        );
      }, 200);
    });
  });
});

// Print buttons (the entry page's print stylesheet is its Hard Copy layout), and "select all"
// on the entry list. Both stay hidden without this file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
  document.querySelectorAll("input[data-select-all]").forEach((toggle) => {
    const boxes = toggle.form.querySelectorAll("input[type=checkbox][name=entry]");
    toggle.hidden = false;
    toggle.addEventListener("change", () => {
      boxes.forEach((box) => { box.checked = toggle.checked; });
    });
  });
});

// The header's language switch sends itself when a language is chosen; its button stays for
// browsers without this file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    const button = form.querySelector("button[type=submit]");
    if (button) button.hidden = true;
    form.querySelectorAll("select").forEach((select) => {
      select.addEventListener("change", () => form.requestSubmit());
    });
  });
});

// The menus (Setup, Menu, the user's) are <details>, which work without this file; with it, a
// click elsewhere or Escape closes an open one, and opening one closes the others.
document.addEventListener("DOMContentLoaded", () => {
  const menus = [...document.querySelectorAll("details.menu")];
  const closeAll = (except) => {
    menus.forEach((menu) => {
      const related = except && (menu === except || menu.contains(except) || except.contains(menu));
      if (!related && menu.open) menu.open = false;
    });
  };
  menus.forEach((menu) => {
    menu.addEventListener("toggle", () => { if (menu.open) closeAll(menu); });
  });
  document.addEventListener("click", (event) => {
    closeAll(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeAll(null);
  });
});
