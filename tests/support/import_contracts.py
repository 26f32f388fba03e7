"""A contract type for ``lint-imports``: no package reaches into another package's
private module.

``clearinghouse.X.anything._y`` (any component after ``X`` starting with one
underscore) may be imported only from inside ``clearinghouse.X``. import-linter's
own ``private_modules`` contract is stricter (a private module is private to its
immediate parent, so ``intake.services`` could not import
``intake.advisories._osv``); the rule the house keeps is between packages.
"""

from __future__ import annotations

import grimp
from importlinter.application import contract_utils, output
from importlinter.domain import fields, helpers
from importlinter.domain.contract import Contract, ContractCheck


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def owner(module: str, container: str) -> str | None:
    """The package of ``container`` that ``module`` belongs to, or None outside ``container``."""
    if not module.startswith(f"{container}."):
        return None
    return ".".join(module.split(".")[: container.count(".") + 2])


def is_private_below(module: str, container: str) -> bool:
    """Whether ``module`` is private to its package of ``container`` (a private component after it)."""
    package = owner(module, container)
    if package is None:
        return False
    return any(_private(part) for part in module.removeprefix(package).split(".") if part)


def cross_package_private_imports(graph: grimp.ImportGraph, container: str) -> set[tuple[str, str]]:
    """(importer, imported) pairs where the importer is outside the imported private module's package."""
    illegal: set[tuple[str, str]] = set()
    for imported in graph.modules:
        if not is_private_below(imported, container):
            continue
        package = owner(imported, container)
        for importer in graph.find_modules_that_directly_import(imported):
            if owner(importer, container) != package:
                illegal.add((importer, imported))
    return illegal


class CrossPackagePrivateContract(Contract):
    """Options: ``containers`` (whose children are the packages), ``ignore_imports``,
    ``unmatched_ignore_imports_alerting`` (default: error, so a paid-off debt is struck
    from the list)."""

    type_name = "cross_package_private"

    containers = fields.SetField(subfield=fields.ModuleExpressionField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        containers = helpers.module_expressions_to_modules(
            graph,
            sorted(self.containers),  # type: ignore[arg-type]
            raise_if_unmatched=True,
        )
        illegal: set[tuple[str, str]] = set()
        for container in containers:
            illegal |= cross_package_private_imports(graph, container.name)
        links = [
            {
                "importer": importer,
                "imported": imported,
                "lines": [
                    d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)
                ],
            }
            for importer, imported in sorted(illegal)
        ]
        return ContractCheck(
            kept=not links,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"illegal_imports": links},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("A package may not import another package's private module:", bold=False)
        output.new_line()
        for link in check.metadata["illegal_imports"]:
            lines = ", ".join(map(str, link["lines"]))
            output.print_error(f"- {link['importer']} -> {link['imported']} (l.{lines})", bold=False)
        output.new_line()
        output.print_error(
            "Import it from the package's public face (its __init__), or move the shared name "
            "into the kernel.",
            bold=False,
        )


def feature_cycle_breakers(
    graph: grimp.ImportGraph, ancestor: str, members: set[str]
) -> set[tuple[str, str]]:
    """The direct imports whose removal leaves ``members`` (children of ``ancestor``) without
    a cycle among them, counting only imports between members (a path through another
    package is the layers contract's business). Changes ``graph``."""
    for child in graph.find_children(ancestor):
        if child not in members:
            for module in [child, *graph.find_descendants(child)]:
                graph.remove_module(module)
    return set(graph.nominate_cycle_breakers(ancestor))


class AcyclicPackagesContract(Contract):
    """No import cycle among the listed sibling packages (``members``, children of
    ``ancestor``). import-linter's ``acyclic_siblings`` takes every child of an ancestor;
    the house's rule is about its features alone."""

    type_name = "acyclic_packages"

    ancestor = fields.ModuleField()
    members = fields.SetField(subfield=fields.ModuleField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        members = {module.name for module in self.members}  # type: ignore[attr-defined]
        breakers = feature_cycle_breakers(graph, self.ancestor.name, members)  # type: ignore[attr-defined]
        return ContractCheck(
            kept=not breakers,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"breakers": sorted(breakers)},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("These packages import each other round a cycle; it breaks at:", bold=False)
        output.new_line()
        for importer, imported in check.metadata["breakers"]:
            output.print_error(f"- {importer} -> {imported}", bold=False)
        output.new_line()
