// MFA: factors on or off, and the policy (never, or every login).
import {api} from "../api.js";
import {h, field, select, form, section, status, showError} from "../ui.js";

async function render(main) {
  const factors = await api("GET", "guardian/factors");
  const list = h("fieldset", {}, h("legend", {}, "Factors"), factors.map((f) => {
    const box = h("input", {type: "checkbox", checked: f.enabled});
    box.addEventListener("change", async () => {
      try {
        await api("PUT", "guardian/factors/" + encodeURIComponent(f.name), {enabled: box.checked});
        status((box.checked ? "Enabled " : "Disabled ") + f.name + ".");
      } catch (e) {
        box.checked = !box.checked;
        showError(e);
      }
    });
    return field(f.name, box);
  }));
  const policies = await api("GET", "guardian/policies");
  const policy = form("MFA policy", [field("Ask for MFA", select("policy", [["", "Never (unless an Action asks)"],
    ["all-applications", "At every login"]], policies[0] || ""))], "Save policy", async (data) => {
    await api("PUT", "guardian/policies", data.get("policy") ? [data.get("policy")] : []);
    status("Policy saved.");
  });
  main.append(section("Factors", list), section("Policy", policy));
}

export default {title: "MFA", render};
