"""The seeded catalogues of equipment and readiness items (French labels: reference data)."""

from __future__ import annotations

# code, label, requested by the field (not in the national base list)
EQUIPMENT = (
    ("examination_table", "Table d’examen", False),
    ("bp_monitor", "Tensiomètre (brassards adulte et enfant)", False),
    ("stethoscope", "Stéthoscope", False),
    ("otoscope", "Otoscope", False),
    ("ophthalmoscope", "Ophtalmoscope", False),
    ("thermometer", "Thermomètre", False),
    ("pulse_oximeter", "Oxymètre de pouls", False),
    ("glucometer", "Lecteur de glycémie capillaire", False),
    ("scales", "Pèse-personne", False),
    ("height_gauge", "Toise adulte", False),
    ("reflex_hammer", "Marteau à réflexes", False),
    ("peak_flow", "Débitmètre de pointe", False),
    ("emergency_kit", "Trousse d’urgence (adrénaline, matériel de réanimation)", False),
    ("sharps_container", "Collecteur DASRI", False),
    ("computer_card_reader", "Ordinateur avec lecteur de cartes CPS et Vitale", False),
    ("printer", "Imprimante", False),
    ("cerfa_forms", "Formulaires CERFA non nominatifs et ordonnances sécurisées", True),
    ("dressings", "Matériel de pansement", True),
    (
        "gynaecology_kits",
        "Kits de gynécologie : frottis, pose et retrait de DIU et d’implant",
        True,
    ),
    ("ecg", "Électrocardiographe", True),
    ("home_visit_set", "Matériel en double pour les visites à domicile", True),
    ("rapid_tests", "TROD et bandelettes urinaires", True),
    (
        "paediatric_measures",
        "Pèse-bébé, toise pédiatrique et mètre ruban (périmètre crânien)",
        True,
    ),
    ("gloves_masks", "Gants et masques", True),
)

# code, label, mandatory
READINESS = (
    ("information_system", "Logiciel métier partagé nommé et accessible depuis le cloud", True),
    ("dmp_access", "Accès au DMP configuré", True),
    ("lab_results_server", "Accès au serveur de résultats de biologie configuré", True),
    ("mssante", "Messagerie sécurisée MSSanté configurée", True),
    ("prescription_software", "Logiciel d’aide à la prescription (LAP) intégré", False),
    ("billing_noemie", "Solution de facturation avec retour NOEMIE", False),
    ("remote_planning", "Planning consultable à distance par le médecin volontaire", False),
    ("secretariat", "Fonction de secrétariat assurée", False),
    ("stock_manager", "Référent du stock de matériel nommé", False),
    ("onboarding", "Licence logicielle et personne ressource sur place pour l’accueil", True),
    ("course_nurse", "Infirmière de parcours ou assistant médical nommé", True),
    ("medical_information_technician", "Technicien de l’information médicale", False),
    ("consultation_length", "Durée minimale de consultation fixée", True),
    ("accommodation_transport", "Hébergement et transport organisés", False),
)

# The item that follows the site's staff instead of being ticked: done when an active course
# nurse or medical assistant works at the site or at its pôle mère (seed 000, lines 105-106;
# `sites.services.follow_up_readiness_refresh`).
COURSE_NURSE_ITEM = "course_nurse"
DERIVED_READINESS = frozenset({COURSE_NURSE_ITEM})
# Prerequisites of continuity the seed names together (000, lines 81-83): mandatory.
CONTINUITY_ACCESS_ITEMS = ("dmp_access", "lab_results_server", "mssante")
