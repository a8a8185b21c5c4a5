"""Projects of other tools brought into tolok: `tolok import dbt` (`tolok.importers.dbt`)."""
